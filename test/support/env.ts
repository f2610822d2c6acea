/** Sets (or, with undefined, removes) environment variables; returns the function that puts them back. */
export const setEnv = (variables: Readonly<Record<string, string | undefined>>): (() => void) => {
  const saved = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]))
  const apply = (values: Readonly<Record<string, string | undefined>>): void => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) Reflect.deleteProperty(process.env, name)
      else process.env[name] = value
    }
  }
  apply(variables)
  return () => {
    apply(saved)
  }
}
