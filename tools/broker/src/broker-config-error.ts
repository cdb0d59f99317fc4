export type BrokerConfigErrorCode =
  'BROKER_BAD_USERNAME' | 'BROKER_DUPLICATE_USER' | 'BROKER_PASSWD_FAILED' | 'BROKER_NO_SUCH_USER';

/** A fleet broker configuration that cannot be written as asked. */
export class BrokerConfigError extends Error {
  constructor(
    readonly code: BrokerConfigErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'BrokerConfigError';
  }
}
