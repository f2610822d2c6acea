const monthNames = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const
const months = monthNames.join('|')

/** `Sun, 06 Nov 1994 08:49:37 GMT`: the one format senders generate. */
const imfFixdate = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) (${months}) (\\d{4}) (\\d{2}):(\\d{2}):(\\d{2}) GMT$`)
/** `Sunday, 06-Nov-94 08:49:37 GMT`: obsolete, but recipients must accept it. */
const rfc850Date = new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-(${months})-(\\d{2}) (\\d{2}):(\\d{2}):(\\d{2}) GMT$`)
/** `Sun Nov  6 08:49:37 1994`: C's asctime, obsolete too. */
const asctimeDate = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (${months}) ([ \\d]\\d) (\\d{2}):(\\d{2}):(\\d{2}) (\\d{4})$`)

interface DateParts {
  readonly year: number
  readonly month: string
  readonly day: string
  readonly hour: string
  readonly minute: string
  readonly second: string
}

const millisecondsOf = ({ year, month, day, hour, minute, second }: DateParts): number | undefined => {
  const monthIndex = monthNames.indexOf(month as (typeof monthNames)[number])
  const parts = [Number(day), Number(hour), Number(minute), Number(second)] as const
  const time = Date.UTC(year, monthIndex, ...parts)
  const date = new Date(time)
  // Date.UTC rolls 31 Feb over into March, and years 0-99 into 1900-1999: a date that does not survive the round trip is not a date.
  const roundTrips = date.getUTCFullYear() === year && date.getUTCDate() === parts[0] && date.getUTCHours() === parts[1] && date.getUTCMinutes() === parts[2] && date.getUTCSeconds() === parts[3]
  return roundTrips ? time : undefined
}

/** RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is the most recent past year with those digits. */
const fullYear = (twoDigits: number): number => {
  const thisYear = new Date().getUTCFullYear()
  const year = thisYear - (thisYear % 100) + twoDigits
  return year > thisYear + 50 ? year - 100 : year
}

/** Parses an HTTP-date (RFC 9110 §5.6.7, all three formats) into epoch milliseconds; undefined when it is not one. */
export const parseHttpDate = (value: string): number | undefined => {
  const text = value.trim()
  let match = imfFixdate.exec(text)
  if (match !== null) {
    const [, day = '', month = '', year = '', hour = '', minute = '', second = ''] = match
    return millisecondsOf({ year: Number(year), month, day, hour, minute, second })
  }
  match = rfc850Date.exec(text)
  if (match !== null) {
    const [, day = '', month = '', year = '', hour = '', minute = '', second = ''] = match
    return millisecondsOf({ year: fullYear(Number(year)), month, day, hour, minute, second })
  }
  match = asctimeDate.exec(text)
  if (match !== null) {
    const [, month = '', day = '', hour = '', minute = '', second = '', year = ''] = match
    return millisecondsOf({ year: Number(year), month, day: day.trim(), hour, minute, second })
  }
  return undefined
}
