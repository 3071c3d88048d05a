// Figures as the server words them (core/text.format_us): one way to print a time, everywhere.

export function formatMicros(us: number): string {
  if (us >= 1_000_000) {
    return `${(us / 1_000_000).toPrecision(3)} s`;
  }
  if (us >= 1000) {
    return `${(us / 1000).toPrecision(3)} ms`;
  }
  if (us >= 10) {
    return `${Math.round(us)} µs`;
  }
  return `${us.toPrecision(3)} µs`;
}
