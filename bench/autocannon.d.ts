declare module 'autocannon' {
  interface Histogram {
    average: number;
    mean: number;
    p50: number;
    p90: number;
    p99: number;
    max: number;
    total: number;
  }
  /** The subset of autocannon's result that the benchmarks read. */
  export interface Result {
    requests: Histogram;
    latency: Histogram;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
  }
  interface Options {
    url: string;
    method?: string;
    body?: string;
    headers?: Record<string, string>;
    connections?: number;
    pipelining?: number;
    duration?: number;
    amount?: number;
    workers?: number;
    /** Per-request hooks: each request may be rewritten (body, headers) before it is sent. */
    requests?: Array<{ method?: string; setupRequest?: (req: { method?: string; path?: string; body?: string; headers?: Record<string, string> }) => unknown }>;
  }
  function autocannon(opts: Options): Promise<Result>;
  export default autocannon;
}
