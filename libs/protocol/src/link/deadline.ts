/**
 * Waits for `work` at most `deadlineMs`: true when it settled in time (resolved or rejected), false
 * when the deadline came first. The work itself is not cancelled; the caller decides what to cut.
 */
export async function settleWithin(work: Promise<unknown>, deadlineMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadlineMs));
  });
  const settled = work.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
