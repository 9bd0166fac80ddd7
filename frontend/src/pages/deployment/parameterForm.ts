/**
 * Turns a deployment's parameter JSON Schema into form fields, validates what people type,
 * and builds the `parameters` object for `POST flow-runs/`. Supports the shapes Python
 * signatures produce: string, number, integer, boolean, enum (also through `$ref`/`allOf`),
 * and anything else (objects, arrays, unions) edited as JSON.
 */

export type FieldKind = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'json';

export interface ParameterField {
  name: string;
  label: string;
  description: string;
  kind: FieldKind;
  required: boolean;
  options: readonly (string | number)[];
  minimum?: number;
  maximum?: number;
  /** The form's starting text (or "true"/"false" for booleans). */
  initial: string;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Follows a local `$ref` (`#/definitions/X`, `#/$defs/X`) and a single-entry `allOf`. */
function resolve(schema: JsonObject, root: JsonObject, depth = 0): JsonObject {
  if (depth > 10) return schema;
  const ref = schema['$ref'];
  if (typeof ref === 'string' && ref.startsWith('#/')) {
    let target: unknown = root;
    for (const part of ref.slice(2).split('/')) target = isObject(target) ? target[part] : undefined;
    if (isObject(target)) return resolve({ ...target, ...withoutKey(schema, '$ref') }, root, depth + 1);
  }
  const allOf = schema['allOf'];
  if (Array.isArray(allOf) && allOf.length === 1 && isObject(allOf[0])) {
    return resolve({ ...resolve(allOf[0], root, depth + 1), ...withoutKey(schema, 'allOf') }, root, depth + 1);
  }
  return schema;
}

function withoutKey(schema: JsonObject, key: string): JsonObject {
  const copy = { ...schema };
  delete copy[key];
  return copy;
}

function kindOf(schema: JsonObject): FieldKind {
  if (Array.isArray(schema['enum'])) return 'enum';
  switch (schema['type']) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'integer':
      return 'integer';
    case 'boolean':
      return 'boolean';
    default:
      return 'json';
  }
}

function initialText(kind: FieldKind, value: unknown): string {
  if (value === undefined) return kind === 'boolean' ? 'false' : '';
  if (kind === 'json') return JSON.stringify(value, null, 2);
  return String(value);
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/** Fields in the schema's `position` order (as Tether's SDK writes it), else declaration order. */
export function fieldsFromSchema(schema: JsonObject, defaults: JsonObject = {}): ParameterField[] {
  const properties = isObject(schema['properties']) ? schema['properties'] : {};
  const required = new Set(Array.isArray(schema['required']) ? (schema['required'] as unknown[]).map(String) : []);
  const entries = Object.entries(properties).filter((entry): entry is [string, JsonObject] => isObject(entry[1]));
  entries.sort(([, a], [, b]) => (numberOrUndefined(a['position']) ?? 0) - (numberOrUndefined(b['position']) ?? 0));
  return entries.map(([name, raw]) => {
    const property = resolve(raw, schema);
    const kind = kindOf(property);
    const start = name in defaults ? defaults[name] : property['default'];
    const minimum = numberOrUndefined(property['minimum']);
    const maximum = numberOrUndefined(property['maximum']);
    return {
      name,
      label: typeof property['title'] === 'string' ? property['title'] : name,
      description: typeof property['description'] === 'string' ? property['description'] : '',
      kind,
      required: required.has(name),
      options: kind === 'enum' ? (property['enum'] as (string | number)[]) : [],
      ...(minimum !== undefined && { minimum }),
      ...(maximum !== undefined && { maximum }),
      initial: initialText(kind, start),
    };
  });
}

export type FormValues = Record<string, string>;

export function initialValues(fields: readonly ParameterField[]): FormValues {
  return Object.fromEntries(fields.map((field) => [field.name, field.initial]));
}

type Parsed = { ok: true; value: unknown } | { ok: true; empty: true } | { ok: false; error: string };

function parseField(field: ParameterField, text: string): Parsed {
  if (field.kind === 'boolean') return { ok: true, value: text === 'true' };
  if (text.trim() === '') {
    return field.required ? { ok: false, error: `${field.label} is required.` } : { ok: true, empty: true };
  }
  switch (field.kind) {
    case 'string':
      return { ok: true, value: text };
    case 'enum': {
      const option = field.options.find((candidate) => String(candidate) === text);
      return option === undefined ? { ok: false, error: `Choose one of the listed values.` } : { ok: true, value: option };
    }
    case 'number':
    case 'integer': {
      const value = Number(text);
      if (!Number.isFinite(value)) return { ok: false, error: `${field.label} must be a number.` };
      if (field.kind === 'integer' && !Number.isInteger(value)) return { ok: false, error: `${field.label} must be a whole number.` };
      if (field.minimum !== undefined && value < field.minimum) return { ok: false, error: `${field.label} must be at least ${field.minimum}.` };
      if (field.maximum !== undefined && value > field.maximum) return { ok: false, error: `${field.label} must be at most ${field.maximum}.` };
      return { ok: true, value };
    }
    case 'json':
      try {
        return { ok: true, value: JSON.parse(text) as unknown };
      } catch {
        return { ok: false, error: `${field.label} must be valid JSON.` };
      }
  }
}

/** Either the parameters to send, or an error per field name. Empty optional fields are left out. */
export function buildParameters(
  fields: readonly ParameterField[],
  values: FormValues,
): { ok: true; parameters: JsonObject } | { ok: false; errors: Record<string, string> } {
  const parameters: JsonObject = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const parsed = parseField(field, values[field.name] ?? '');
    if (!parsed.ok) errors[field.name] = parsed.error;
    else if ('value' in parsed) parameters[field.name] = parsed.value;
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, parameters };
}
