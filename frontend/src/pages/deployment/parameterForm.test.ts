import { describe, expect, it } from 'vitest';
import { buildParameters, fieldsFromSchema, initialValues } from './parameterForm';

const SCHEMA = {
  type: 'object',
  properties: {
    limit: { type: 'integer', title: 'Limit', minimum: 1, maximum: 100, position: 1 },
    source: { type: 'string', title: 'Source', position: 0 },
    mode: { allOf: [{ $ref: '#/definitions/Mode' }], position: 2 },
    ratio: { type: 'number', default: 0.5, position: 3 },
    dry_run: { type: 'boolean', default: true, position: 4 },
    options: { type: 'object', position: 5 },
  },
  required: ['source', 'limit'],
  definitions: { Mode: { title: 'Mode', enum: ['fast', 'safe'] } },
};

describe('parameter form from a JSON Schema', () => {
  it('makes one field per property, in position order, resolving $ref enums', () => {
    const fields = fieldsFromSchema(SCHEMA);
    expect(fields.map((f) => [f.name, f.kind, f.required])).toEqual([
      ['source', 'string', true],
      ['limit', 'integer', true],
      ['mode', 'enum', false],
      ['ratio', 'number', false],
      ['dry_run', 'boolean', false],
      ['options', 'json', false],
    ]);
    expect(fields.find((f) => f.name === 'mode')?.options).toEqual(['fast', 'safe']);
  });

  it("starts from the deployment's defaults over the schema's", () => {
    const values = initialValues(fieldsFromSchema(SCHEMA, { ratio: 0.9, options: { a: 1 } }));
    expect(values['ratio']).toBe('0.9');
    expect(values['dry_run']).toBe('true');
    expect(JSON.parse(values['options'] ?? '')).toEqual({ a: 1 });
  });

  it('reports each invalid field and sends nothing', () => {
    const fields = fieldsFromSchema(SCHEMA);
    const result = buildParameters(fields, {
      source: '',
      limit: '2.5',
      mode: 'slow',
      ratio: 'abc',
      dry_run: 'false',
      options: '{not json',
    });
    expect(result).toEqual({
      ok: false,
      errors: {
        source: 'Source is required.',
        limit: 'Limit must be a whole number.',
        mode: 'Choose one of the listed values.',
        ratio: 'ratio must be a number.',
        options: 'options must be valid JSON.',
      },
    });
    expect(buildParameters(fields, { source: 's', limit: '101' })).toMatchObject({
      ok: false,
      errors: { limit: 'Limit must be at most 100.' },
    });
  });

  it('converts values to their JSON types and leaves empty optional fields to the server', () => {
    const fields = fieldsFromSchema(SCHEMA);
    const result = buildParameters(fields, {
      source: 's3://bucket',
      limit: '10',
      mode: '',
      ratio: '0.25',
      dry_run: 'false',
      options: '{"retries": 2}',
    });
    expect(result).toEqual({
      ok: true,
      parameters: { source: 's3://bucket', limit: 10, ratio: 0.25, dry_run: false, options: { retries: 2 } },
    });
  });
});
