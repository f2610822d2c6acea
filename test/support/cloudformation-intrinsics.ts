import type { Json, JsonObject, Template } from './serverless-template.js'

/** Where a template's resources stand: the names and ARNs CloudFormation would have given them. */
export interface Placement {
  readonly partition: string
  readonly region: string
  readonly accountId: string
  /** What `Ref` gives for each logical id the template's values name. */
  readonly refs: Readonly<Record<string, string>>
  /** What `Fn::GetAtt [id, Arn]` gives. */
  readonly arns: Readonly<Record<string, string>>
}

/** What `AWS::NoValue` leaves: nothing, so the property or list entry goes. */
const noValue = Symbol('AWS::NoValue')
type Resolved = Json | typeof noValue

const isObject = (value: Json): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * A template value with the intrinsic functions serverless.yml uses (Ref, Fn::GetAtt of an Arn,
 * Fn::Sub, Fn::If, Fn::Join, Fn::Not, Fn::Equals) worked out as CloudFormation would for
 * `placement`, each stack parameter at its default. Anything else throws, naming it: a check that
 * met a function it cannot work out must not pass.
 */
export const resolveIntrinsics = (template: Template, placement: Placement, value: Json): Json | undefined => {
  const pseudo: Readonly<Record<string, string>> = { 'AWS::Partition': placement.partition, 'AWS::Region': placement.region, 'AWS::AccountId': placement.accountId }

  const ref = (name: string): Resolved => {
    if (name === 'AWS::NoValue') return noValue
    const found = pseudo[name] ?? placement.refs[name]
    if (found !== undefined) return found
    const parameter = template.Parameters?.[name]
    if (parameter !== undefined) {
      const fallback = parameter.Default ?? ''
      return parameter.Type === 'CommaDelimitedList' && typeof fallback === 'string' ? (fallback === '' ? [''] : fallback.split(',')) : fallback
    }
    throw new Error(`no placement for Ref ${name}`)
  }

  const arnOf = (logicalId: string): string => {
    const arn = placement.arns[logicalId]
    if (arn === undefined) throw new Error(`no placement for Fn::GetAtt ${logicalId}.Arn`)
    return arn
  }

  const text = (resolved: Resolved, where: string): string => {
    if (typeof resolved !== 'string') throw new Error(`${where} is not a string: ${resolved === noValue ? 'AWS::NoValue' : JSON.stringify(resolved)}`)
    return resolved
  }

  const substitute = (pattern: string): string =>
    pattern.replaceAll(/\$\{([\w:]+)(?:\.(\w+))?\}/g, (_, name: string, attribute: string | undefined) => {
      if (attribute === undefined) return text(ref(name), `\${${name}}`)
      if (attribute !== 'Arn') throw new Error(`Fn::Sub \${${name}.${attribute}} is not worked out`)
      return arnOf(name)
    })

  const condition = (name: string): boolean => {
    const definition = template.Conditions?.[name]
    if (definition === undefined) throw new Error(`the template has no condition ${name}`)
    const outcome = walk(definition)
    if (typeof outcome !== 'boolean') throw new Error(`condition ${name} is not a boolean`)
    return outcome
  }

  const walk = (node: Json): Resolved => {
    if (Array.isArray(node)) return node.map(walk).filter((entry): entry is Json => entry !== noValue)
    if (!isObject(node)) return node
    const [key, argument] = Object.entries(node)[0] ?? []
    if (Object.keys(node).length === 1 && key !== undefined && argument !== undefined) {
      if (key === 'Ref') return ref(text(argument, 'Ref'))
      if (key === 'Fn::GetAtt') {
        const [logicalId, attribute] = argument as [string, string]
        if (attribute !== 'Arn') throw new Error(`Fn::GetAtt ${logicalId}.${attribute} is not worked out`)
        return arnOf(logicalId)
      }
      if (key === 'Fn::Sub') return substitute(text(argument, 'Fn::Sub'))
      if (key === 'Fn::If') {
        const [name, whenTrue, whenFalse] = argument as [string, Json, Json]
        return walk(condition(name) ? whenTrue : whenFalse)
      }
      if (key === 'Fn::Join') {
        const [separator, list] = argument as [string, Json]
        const joined = walk(list)
        if (!Array.isArray(joined)) throw new Error('Fn::Join of no list')
        return joined.map((entry) => text(entry, 'a Fn::Join entry')).join(separator)
      }
      if (key === 'Fn::Not') return !(walk((argument as Json[])[0] ?? null) as boolean)
      if (key === 'Fn::Equals') {
        const [left, right] = (argument as Json[]).map(walk)
        return JSON.stringify(left) === JSON.stringify(right)
      }
      if (key.startsWith('Fn::') || key === 'Condition') throw new Error(`${key} is not worked out`)
    }
    const entries = Object.entries(node).flatMap(([name, entry]) => {
      const resolved = walk(entry)
      return resolved === noValue ? [] : [[name, resolved] as const]
    })
    return Object.fromEntries(entries)
  }

  const resolved = walk(value)
  return resolved === noValue ? undefined : resolved
}
