// autocannon ships no types (and @types/autocannon is not installed): only what the bench uses.
declare module 'autocannon' {
  /** A request as autocannon is about to send it; setupRequest may return a changed copy. */
  export interface Request {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
  }

  export interface Options {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    connections?: number;
    /** Seconds. */
    duration?: number;
    requests?: { setupRequest?: (request: Request) => Request }[];
  }

  /** The figures of a run (each histogram also has more percentiles than are listed). */
  export interface Result {
    requests: { average: number };
    latency: { average: number; p99: number };
    errors: number;
    non2xx: number;
  }

  export interface Instance {
    stop(): void;
  }

  export interface TrackOptions {
    renderProgressBar?: boolean;
    renderResultsTable?: boolean;
    renderLatencyTable?: boolean;
  }

  interface Autocannon {
    (options: Options, done: (error: Error | null, result: Result) => void): Instance;
    track(instance: Instance, options?: TrackOptions): void;
  }

  const autocannon: Autocannon;
  export default autocannon;
}
