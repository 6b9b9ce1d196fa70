import fp from 'fastify-plugin';

interface Mail {
  /** The sender when not MAIL_FROM (PtitsPas mails come from PTITSPAS_MAIL_FROM). */
  from?: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
}

interface Mailer {
  send(mail: Mail): Promise<void>;
  /** Sends without making the caller wait; failures are logged, and shutdown waits for pending sends. */
  sendInBackground(mail: Mail): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    mailer: Mailer;
  }
}

/**
 * Mail through SMTP_URL with nodemailer. Without SMTP_URL each message is written to the log at
 * info level instead, so password resets work in development with no mail server (and nodemailer
 * is not loaded).
 */
export default fp<{ smtpUrl?: string; from: string }>(
  async (app, { smtpUrl, from }) => {
    const transport = smtpUrl ? (await import('nodemailer')).default.createTransport(smtpUrl) : undefined;
    const pending = new Set<Promise<void>>();

    const send = async (mail: Mail) => {
      if (!transport) {
        app.log.info({ mail: { from, ...mail } }, 'e-mail (no SMTP_URL: logged, not sent)');
        return;
      }
      await transport.sendMail({ from, ...mail });
    };

    app.decorate('mailer', {
      send,
      sendInBackground(mail) {
        const sending = send(mail)
          .catch((err: unknown) => app.log.error({ err, subject: mail.subject }, 'e-mail could not be sent'))
          .finally(() => pending.delete(sending));
        pending.add(sending);
      },
    });

    app.addHook('onClose', async () => {
      await Promise.all(pending);
      transport?.close();
    });
  },
  { name: 'mailer' },
);
