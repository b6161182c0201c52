/** The bare workflow's only activity: it does nothing, so what remains is the engine's cost of an activity. */
export function noop(step: number): Promise<number> {
  return Promise.resolve(step);
}
