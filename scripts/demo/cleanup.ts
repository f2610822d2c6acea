/**
 * What the demo started, stopped in reverse order once it ends: after the report, after a failure,
 * or on Ctrl-C. Each step runs once, and a step that fails does not keep the others from running.
 */
export class Cleanup {
  readonly #steps: { readonly name: string; readonly stop: () => Promise<void> | void }[] = []
  #done: Promise<void> | undefined

  add(name: string, stop: () => Promise<void> | void): void {
    this.#steps.push({ name, stop })
  }

  run(): Promise<void> {
    this.#done ??= (async () => {
      for (const { name, stop } of this.#steps.reverse()) {
        try {
          await stop()
        } catch (error) {
          console.error(`demo: stopping ${name} failed: ${error instanceof Error ? error.message : String(error)}`)
        }
      }
    })()
    return this.#done
  }
}
