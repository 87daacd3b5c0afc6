import { arch, availableParallelism, cpus, loadavg, release, totalmem, type } from 'node:os';

export interface MachineDescription {
  readonly node: string;
  readonly os: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  /** 1-minute load average when the bench started: above the core count, other work shared the CPUs. */
  readonly loadAverageAtStart: number;
}

export function describeMachine(): MachineDescription {
  return {
    node: process.version,
    os: `${type()} ${release()}`,
    arch: arch(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}
