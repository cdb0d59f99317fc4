import { describe, expect, it } from 'vitest';
import { codedError, CodedError } from './coded-error';
import { ErrorBody } from './messages/request-response';
import { validate } from './messages/validate';
import { restErrorOf, restErrorReply } from './rest-error';

const reply = (error: unknown) => restErrorReply(restErrorOf(error));

describe('REST error replies', () => {
  it('answers a thrown registry error with its code and the registry status', () => {
    expect(reply(codedError('INTERLOCK', 'pump refused', { interlock: 'water' }))).toEqual({
      status: 409,
      body: { error: { code: 'INTERLOCK', message: 'pump refused', details: { interlock: 'water' } } },
    });
    expect(reply(codedError('DISK_SPACE_LOW', 'full')).status).toBe(507);
    expect(reply(codedError('UNAUTHORIZED', 'no token')).status).toBe(401);
  });

  it('answers an unknown error as 500 INTERNAL in the contract shape, without its message', () => {
    const leaky = Object.assign(new Error('/secret/path: EACCES'), { code: 'EACCES' });
    const forged = new CodedError('NOT_REGISTERED' as never, 'forged', { secret: 1 });
    for (const error of [leaky, forged, 'string', undefined]) {
      const { status, body } = reply(error);
      expect(status).toBe(500);
      expect(body).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
      expect(validate(ErrorBody, body.error).ok).toBe(true);
    }
    expect(restErrorReply(forged)).toEqual({
      status: 500,
      body: { error: { code: 'INTERNAL', message: 'internal error' } },
    });
  });

  it('answers a schema refusal of the framework as INVALID_MESSAGE with the issues', () => {
    const error = {
      statusCode: 400,
      validation: [{ instancePath: '/level', message: 'must be <= 100' }],
      validationContext: 'body',
    };
    expect(reply(error)).toEqual({
      status: 400,
      body: {
        error: {
          code: 'INVALID_MESSAGE',
          message: 'invalid request body',
          details: [{ path: '/level', message: 'must be <= 100' }],
        },
      },
    });
  });

  it('answers other 4xx refusals of the framework as BAD_JSON, or INVALID_MESSAGE for media type and size', () => {
    expect(reply({ statusCode: 400, message: 'Unexpected token' }).body.error.code).toBe('BAD_JSON');
    expect(
      reply({ statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', message: 'x' }).body.error.code,
    ).toBe('INVALID_MESSAGE');
    expect(reply({ statusCode: 413, message: 'too large' })).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_MESSAGE' } },
    });
    expect(reply({ statusCode: 502, message: 'upstream' })).toMatchObject({
      status: 500,
      body: { error: { code: 'INTERNAL' } },
    });
  });
});
