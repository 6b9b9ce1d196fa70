import PostalMime, { type Email } from 'postal-mime';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on a free local port that keeps every message it receives, parsed. */
export async function startSmtpServer() {
  const messages: Email[] = [];
  const waiters: Array<() => void> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        PostalMime.parse(Buffer.concat(chunks))
          .then((mail) => {
            messages.push(mail);
            waiters.splice(0).forEach((wake) => {
              wake();
            });
            done();
          })
          .catch(done);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };

  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    /** Resolves with the first message to `address`, waiting for it up to `ms`. */
    async waitFor(address: string, ms = 5000): Promise<Email> {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = messages.find((m) => m.to?.some((t) => t.address === address));
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no e-mail to ${address} within ${ms} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
