import { waitUntil } from './process';

/**
 * The JSON body of `url` once it answers 200 (an app's `/health` while it starts); `whileWaiting`
 * runs before each try and may throw to give up early (the app exited).
 */
export async function jsonWhenUp<T = Record<string, unknown>>(
  url: string,
  options: { timeoutMs?: number; whileWaiting?: () => void } = {},
): Promise<T> {
  let body: T | undefined;
  await waitUntil(
    `${url} answering 200`,
    async () => {
      options.whileWaiting?.();
      const res = await fetch(url).catch(() => undefined);
      if (res?.status !== 200) return false;
      body = (await res.json()) as T;
      return true;
    },
    options.timeoutMs,
  );
  return body!;
}
