/** Where a command writes: the CLI passes its own to the commands it runs (the drill, the emulator, tests in-process). */
export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}
