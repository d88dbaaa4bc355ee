import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one server: requests by API family/command/code and their latency. */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'trtcd_requests_total',
    help: 'API requests by family, command and result code',
    labelNames: ['family', 'command', 'code'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'trtcd_request_duration_seconds',
    help: 'API request latency by family and command',
    labelNames: ['family', 'command'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'trtcd_' });
  }

  /** A gauge read when /metrics is scraped (e.g. open connections, media publications). */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** Records one finished request; `startNs` is from process.hrtime.bigint(). */
  observe(family: string, command: string, code: number, startNs: bigint): void {
    this.observeCode(family, command, String(code), startNs);
  }

  /** Records one finished request whose result code is a string (Cloud API `Error.Code`, '0' for success). */
  observeCode(family: string, command: string, code: string, startNs: bigint): void {
    this.requests.labels(family, command, code).inc();
    this.latency.labels(family, command).observe(Number(process.hrtime.bigint() - startNs) / 1e9);
  }
}
