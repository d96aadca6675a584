// Samples from a service's /metrics, as the text Prometheus would read.

/** The raw value of one series (name and labels exactly as written) in a /metrics text. */
function valueText(text: string, series: string): string | undefined {
  return text
    .split("\n")
    .find((l) => l.startsWith(`${series} `))
    ?.slice(series.length + 1);
}

/** The value of one series in a /metrics text; undefined when the text has no such series. */
export function sampleIn(text: string, series: string): number | undefined {
  const value = valueText(text, series);
  return value === undefined ? undefined : Number(value);
}

/** One sample of a series from a running service's /metrics. */
export async function scrapeSample(serviceUrl: string, series: string): Promise<string | undefined> {
  return valueText(await (await fetch(`${serviceUrl}/metrics`)).text(), series);
}
