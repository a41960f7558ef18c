/** What tests arm and read: faults injected on a path, and how often each path was called. */

export type FaultKind = 'errcode' | 'http_500' | 'non_json' | 'hang';

export interface Fault {
  id: number;
  path: string;
  kind: FaultKind;
  errcode: number;
  /** How many more requests it hits; Infinity for "always". */
  remaining: number;
}

/** Fault ids keep counting across resets (a reset never hands out an id again). */
let nextFaultId = 1;

export class CallsAndFaults {
  readonly calls = new Map<string, number>();
  private faults: Fault[] = [];

  countCall(path: string): void {
    this.calls.set(path, (this.calls.get(path) ?? 0) + 1);
  }

  addFault(path: string, kind: FaultKind, errcode: number, times: number): Fault {
    const fault: Fault = { id: nextFaultId++, path, kind, errcode, remaining: times };
    this.faults.push(fault);
    return fault;
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** The first armed fault for this path, consumed by one request. */
  takeFault(path: string): Fault | undefined {
    const fault = this.faults.find((f) => f.path === path && f.remaining > 0);
    if (!fault) return undefined;
    fault.remaining -= 1;
    return fault;
  }
}
