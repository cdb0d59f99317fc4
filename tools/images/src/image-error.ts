import { CodedError } from '@growoff/protocol';

export type ImageErrorCode =
  | 'IMAGE_UNKNOWN_APP'
  | 'BAD_JSON'
  | 'INVALID_MESSAGE'
  | 'IMAGE_APP_BUILD_FAILED'
  | 'IMAGE_APP_NOT_BUILT'
  | 'IMAGE_DEPLOY_FAILED'
  | 'IMAGE_BUILD_FAILED'
  | 'IMAGE_NOT_FOUND';

/** A failed image step, with the tool's last output lines as the message's tail. */
export class ImageError extends CodedError<ImageErrorCode> {
  override readonly name = 'ImageError';

  constructor(code: ImageErrorCode, message: string) {
    super(code, message);
  }
}
