// The model helpers live with the models (domain/); routes build their HTTP schemas with the same ones.
export { Nullable, StringEnum } from '../domain/shared/typebox.js';
