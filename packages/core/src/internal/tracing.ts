/**
 * wxopen's spans, made only when they can go somewhere.
 *
 * Under Effect's default tracer, which exports nothing, a span still costs
 * about as much as the rest of a call's own work (it draws random ids, copies
 * the fiber's context, reads the clock twice), so wxopen makes its spans only
 * when a program has installed a tracer of its own (`@effect/opentelemetry`,
 * say, or `Layer.setTracer`). Annotations go to the current span if there is
 * one, and cost nothing when there is none.
 */
import { Context, Effect, Tracer } from "effect"

// The tracer a program has when it installed none: Effect's native one.
const native = Effect.runSync(Effect.tracer)

/** `Effect.withSpan`, when a tracer other than Effect's default one is installed. */
export const withSpan = (name: string, options?: Tracer.SpanOptions) => <A, E, R>(self: Effect.Effect<A, E, R>) => {
  const traced = Effect.withSpan(self, name, options ?? {})
  return Effect.tracerWith((tracer) => tracer === native ? self : traced)
}

/** Sets attributes on the current span, if there is one. */
export const annotate = (attributes: Readonly<Record<string, unknown>>): Effect.Effect<void> =>
  Effect.withFiberRuntime((fiber) => {
    const span = Context.getOption(fiber.currentContext, Tracer.ParentSpan)
    if (span._tag === "Some" && span.value._tag === "Span") {
      for (const key in attributes) span.value.attribute(key, attributes[key])
    }
    return Effect.void
  })
