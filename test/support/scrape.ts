// One sample of a series from a running service's /metrics, as the text Prometheus would read.
export async function scrapeSample(serviceUrl: string, series: string): Promise<string | undefined> {
  const text = await (await fetch(`${serviceUrl}/metrics`)).text();
  return text.split("\n").find((l) => l.startsWith(`${series} `))?.slice(series.length + 1);
}
