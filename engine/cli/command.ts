/** A CLI verb. `run` gets the arguments after the verb and returns the process exit code. */
export interface Command {
  name: string
  /** One line for `tailhouse --help`. */
  summary: string
  /** The full text of `tailhouse <name> --help`. */
  help: string
  run(args: string[]): Promise<number>
}
