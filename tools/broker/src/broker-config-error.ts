import { CodedError } from '@growoff/protocol';

export type BrokerConfigErrorCode =
  'BROKER_BAD_USERNAME' | 'BROKER_DUPLICATE_USER' | 'BROKER_PASSWD_FAILED' | 'BROKER_NO_SUCH_USER';

/** A fleet broker configuration that cannot be written as asked. */
export class BrokerConfigError extends CodedError<BrokerConfigErrorCode> {
  override readonly name = 'BrokerConfigError';

  constructor(code: BrokerConfigErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}
