/** The checks the link builders share. */

/** Whether `input` is an absolute http(s) URL with a host. */
export const isAbsoluteHttp = (input: string): boolean => {
  if (!/^https?:\/\/[^/?#\s]/i.test(input)) return false
  try {
    new URL(input)
    return true
  } catch {
    return false
  }
}

/** `given` (or `fallback`) without trailing slashes, if it is an absolute http(s) URL without a query or fragment. */
export const baseUrl = (given: string | undefined, fallback: string): { readonly ok: boolean; readonly value: string } => {
  const value = (given ?? fallback).replace(/\/+$/, "")
  return { ok: isAbsoluteHttp(value) && !/[?#]/.test(value), value }
}
