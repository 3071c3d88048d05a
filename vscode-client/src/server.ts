// The language server's life: choose the interpreter, check kernelwright imports there, start
// `python -m kernelwright serve` with the stored keys in its environment, restart it (debounced) when
// the interpreter, a start-up setting or a key changes, and say clearly when it cannot start.
import * as path from "node:path";
import * as fs from "node:fs";

import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  State,
  type ConfigurationParams,
  type LanguageClientOptions,
  type ServerOptions,
  type StaticFeature,
} from "vscode-languageclient/node";

import { chooseInterpreter, describeInterpreter, installCommand, notStartedMessage, type Interpreter } from "./interpreter";
import { probeInterpreter } from "./probe";
import type { PythonExtensionLink } from "./pythonExtension";
import type { ApiKeys } from "./secrets";
import { serverArguments, serverEnvironment, serverSettings } from "./settings";

export const SERVER_ID = "kernelwright";
export const SERVER_NAME = "kernelwright";

export const DOCUMENTS: { scheme: string; language?: string; pattern?: string }[] = [
  { scheme: "file", language: "python" },
  { scheme: "file", language: "cuda-cpp" },
  { scheme: "file", pattern: "**/*.{cu,cuh}" },
];

/** Tells the server that this client reviews results as a diff and draws history itself. */
class KernelwrightFeatures implements StaticFeature {
  fillClientCapabilities(capabilities: { experimental?: unknown }): void {
    const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
    capabilities.experimental = { ...experimental, kernelwright: { reviewResults: true, historyView: true } };
  }
  getState(): { kind: "static" } {
    return { kind: "static" };
  }
  initialize(): void {}
  clear(): void {}
}

export interface ServerEvents {
  starting(interpreter: Interpreter): void;
  started(client: LanguageClient, interpreter: Interpreter, version: string): void;
  notStarted(message: string): void;
  stopped(crashed: string | undefined): void;
  /** A command a lens or code action runs, on its way to the server: the flows hook in here. */
  executing(command: string, args: unknown[], run: () => Promise<unknown>): Promise<unknown>;
}

export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private starting: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly keys: ApiKeys,
    private readonly python: PythonExtensionLink | undefined,
    private readonly events: ServerEvents,
  ) {}

  get running(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  /** Run a server command (workspace/executeCommand) and return its answer. */
  async command<T>(command: string, args: unknown[]): Promise<T> {
    const client = this.running;
    if (client === undefined) {
      throw new Error("the kernelwright server is not running; see 'kernelwright: Open log'");
    }
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args })) as T;
  }

  /** A setting the server reads changed: it pulls the section again (workspace/configuration). */
  settingsChanged(): void {
    void this.running?.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
  }

  /** Restart after a quiet moment: several setting changes in a row restart once. */
  scheduleRestart(reason: string, delayMs = 500): void {
    if (this.restartTimer !== undefined) {
      clearTimeout(this.restartTimer);
    }
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.log.info(`restarting the server: ${reason}`);
      void this.restart();
    }, delayMs);
  }

  async restart(): Promise<void> {
    await this.starting;
    await this.stop();
    this.starting = this.start();
    await this.starting;
  }

  async start(): Promise<void> {
    const config = vscode.workspace.getConfiguration("kernelwright");
    const resource = vscode.window.activeTextEditor?.document.uri.toString() ?? vscode.workspace.workspaceFolders?.[0]?.uri.toString();
    const interpreter = await chooseInterpreter(config.get<string>("interpreter"), this.python, resource);
    this.events.starting(interpreter);
    this.log.info(`interpreter: ${describeInterpreter(interpreter)}`);
    const env = serverEnvironment(process.env, await this.keys.environment());
    const probe = await probeInterpreter(interpreter.path, env);
    if (!probe.ok) {
      const install = installCommand(interpreter, this.bundledWheel());
      const message = notStartedMessage(interpreter, probe, install);
      this.log.error(`${message}\n${probe.detail}`);
      this.events.notStarted(message);
      void this.offerFix(message, probe.reason === "no-interpreter" ? undefined : install);
      return;
    }
    const serverOptions: ServerOptions = {
      command: interpreter.path,
      args: serverArguments(config.get("logLevel")),
      options: { env, cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENTS,
      outputChannel: this.log,
      traceOutputChannel: this.log,
      initializationOptions: serverSettings(config),
      middleware: {
        workspace: {
          configuration: async (params: ConfigurationParams, token, next) => {
            const answer = await next(params, token);
            return Array.isArray(answer)
              ? answer.map((item: unknown) =>
                  item !== null && typeof item === "object" ? serverSettings(item as Record<string, unknown>) : item,
                )
              : answer;
          },
        },
        executeCommand: (command, args, next) => this.events.executing(command, args, () => Promise.resolve(next(command, args))),
      },
    };
    const client = new LanguageClient(SERVER_ID, SERVER_NAME, serverOptions, clientOptions);
    client.registerFeature(new KernelwrightFeatures());
    client.onDidChangeState((change) => {
      if (change.newState === State.Stopped && !this.stopping) {
        this.events.stopped("the server process exited");
      }
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      const message = `kernelwright: the server did not start in ${describeInterpreter(interpreter)}: ${text}`;
      this.log.error(message);
      this.events.notStarted(message);
      void this.offerFix(message, undefined);
      return;
    }
    this.events.started(client, interpreter, probe.version);
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) {
      return;
    }
    this.stopping = true;
    try {
      if (client.state !== State.Stopped) {
        await client.stop(10_000);
      }
    } catch (error) {
      this.log.warn(`stopping the server: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.stopping = false;
      this.events.stopped(undefined);
    }
  }

  /** The kernelwright wheel shipped inside the extension, when the package carries one. */
  private bundledWheel(): string | undefined {
    const folder = path.join(this.context.extensionPath, "bundled");
    try {
      const wheel = fs.readdirSync(folder).find((name) => name.endsWith(".whl"));
      return wheel !== undefined ? path.join(folder, wheel) : undefined;
    } catch {
      return undefined;
    }
  }

  private async offerFix(message: string, install: string | undefined): Promise<void> {
    const buttons = install !== undefined ? ["Install in terminal", "Open log"] : ["Open log"];
    const choice = await vscode.window.showErrorMessage(message, ...buttons);
    if (choice === "Open log") {
      this.log.show();
    } else if (choice === "Install in terminal" && install !== undefined) {
      const terminal = vscode.window.createTerminal("kernelwright: install");
      terminal.show();
      terminal.sendText(install, true);
    }
  }

  dispose(): void {
    if (this.restartTimer !== undefined) {
      clearTimeout(this.restartTimer);
    }
    void this.stop();
  }
}
