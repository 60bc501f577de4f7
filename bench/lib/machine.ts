/** The machine a run happened on, printed with the table: figures mean little without it. */
import os from 'node:os';

export interface MachineInfo {
  cpu: string;
  cores: number;
  totalMemGiB: number;
  os: string;
  node: string;
  /** ISO date and time of the run. */
  date: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    totalMemGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    date: new Date().toISOString(),
  };
}

/** One line: "AMD EPYC · 2 cores · 23.5 GiB RAM · Linux 6.1 x64 · Node v20.20.2". */
export function describeMachine(m: MachineInfo): string {
  return `${m.cpu} · ${m.cores} cores · ${m.totalMemGiB} GiB RAM · ${m.os} · Node ${m.node}`;
}
