/**
 * A block's form from its type's JSON Schema, on top of the parameter form's field rules.
 * Secret fields start as the server's mask when a value is stored; left as the mask, they
 * are sent back as the mask, which the server reads as "keep the stored value".
 */
import { SECRET_MASK } from '../../api/blocks';
import type { BlockType } from '../../api/types';
import { buildParameters, fieldsFromSchema, type FormValues, type ParameterField } from '../deployment/parameterForm';

export interface BlockField extends ParameterField {
  secret: boolean;
  /** A secret with a stored value: the form shows the mask and keeps it unless retyped. */
  stored: boolean;
}

function schemaOf(type: BlockType): Record<string, unknown> {
  const schema = type.schema;
  return typeof schema === 'object' && schema !== null && !Array.isArray(schema) ? (schema as Record<string, unknown>) : {};
}

export function blockFields(type: BlockType, data: Record<string, unknown> = {}): BlockField[] {
  const secrets = new Set(type.secret_fields);
  return fieldsFromSchema(schemaOf(type), data).map((field) => {
    const secret = secrets.has(field.name);
    const stored = secret && data[field.name] === SECRET_MASK;
    return { ...field, secret, stored, ...(stored && { initial: SECRET_MASK }) };
  });
}

export function buildBlockData(
  fields: readonly BlockField[],
  values: FormValues,
): { ok: true; data: Record<string, unknown> } | { ok: false; errors: Record<string, string> } {
  const kept = fields.filter((field) => field.stored && values[field.name] === SECRET_MASK);
  const keptNames = new Set(kept.map((field) => field.name));
  const built = buildParameters(
    fields.filter((field) => !keptNames.has(field.name)),
    values,
  );
  if (!built.ok) return built;
  return { ok: true, data: { ...built.parameters, ...Object.fromEntries(kept.map((field) => [field.name, SECRET_MASK])) } };
}
