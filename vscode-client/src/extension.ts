// Wiring only: each concern lives in its own module (server, interpreter, settings, secrets, status,
// progress, review, history, commands).
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";

import { profileFile, runAtCursor, SERVER_COMMANDS, showHistoryAtCursor } from "./commands";
import { type History, HistoryView } from "./history";
import { redactingChannel } from "./log";
import { OptimizeProgress } from "./progress";
import { linkPythonExtension, type PythonExtensionLink } from "./pythonExtension";
import { RESULT_READY, ReviewFlow, type ResultReady } from "./review";
import { ApiKeys, KEYED_PROVIDERS, keyedProvider, KEY_VARIABLES, validateKey, type KeyedProvider } from "./secrets";
import { DOCUMENTS, ServerManager } from "./server";
import { needsRestart } from "./settings";
import { siteArgument, type SiteArgument } from "./sites";
import { StatusItem } from "./status";

interface Confinement {
  readonly available: boolean;
  readonly mechanism: string;
  readonly reason: string;
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const channel = vscode.window.createOutputChannel("kernelwright", { log: true });
  const keys = new ApiKeys(context.secrets);
  const log = redactingChannel(channel, () => keys.values());
  const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration("kernelwright");
  const status = new StatusItem(DOCUMENTS, config().get<string>("device") ?? "auto");
  const history = new HistoryView();
  const optimizing = new Map<string, SiteArgument>(); // site name -> its argument, while it runs

  let python: PythonExtensionLink | undefined;
  try {
    python = await linkPythonExtension();
  } catch (error) {
    log.warn(`the Python extension's interpreter is not available: ${String(error)}`);
  }

  const progress = new OptimizeProgress({
    started: (_token, site, message) => { status.update({ optimizing: { site, message } }); },
    reported: (_token, site, message) => { status.update({ optimizing: { site, message } }); },
    ended: (_token, site, message) => {
      optimizing.delete(site);
      status.update({ optimizing: undefined });
      log.info(`optimize ${site}: ${message}`);
    },
  });

  const server: ServerManager = new ServerManager(context, log, keys, python, {
    starting: (interpreter) => { status.update({ server: { kind: "starting", interpreter: interpreter.path } }); },
    started: (client: LanguageClient, interpreter, version) => {
      progress.attach(client);
      client.onNotification(RESULT_READY, (note: ResultReady) => {
        void review.ready(note).catch((error: unknown) => { log.error(`showing the result: ${String(error)}`); });
      });
      status.update({ server: { kind: "ready", interpreter: interpreter.path, version } });
      void server
        .command<{ confinement?: Confinement }>("kernelwright.debugState", [])
        .then((state) => {
          const box = state.confinement;
          if (box !== undefined) {
            status.update({ confinement: box.available ? `candidates boxed (${box.mechanism})` : `unconfined: ${box.reason}` });
          }
        })
        .catch(() => undefined);
    },
    notStarted: (reason) => { status.update({ server: { kind: "not-started", reason } }); },
    stopped: (crashed) => {
      progress.closeAll();
      optimizing.clear();
      status.update({ server: crashed !== undefined ? { kind: "crashed", reason: crashed } : { kind: "stopped" }, optimizing: undefined });
    },
    executing: async (command, args, run) => {
      if (command === SERVER_COMMANDS.optimize) {
        const site = siteArgument(args[0]);
        if (site !== undefined) {
          optimizing.set(site.site, site);
        }
      }
      const answer = await run();
      if (command === SERVER_COMMANDS.showHistory && answer !== null && typeof answer === "object") {
        history.show(answer as History);
      }
      return answer;
    },
  });
  const review = new ReviewFlow(server, (shown) => {
    if (shown.device !== undefined && shown.device !== "") {
      status.update({ measuredOn: shown.device });
    }
  });

  const register = (id: string, run: (...args: unknown[]) => unknown): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, run));
  };
  register("kernelwright.profileFile", () => profileFile());
  register("kernelwright.optimizeAtCursor", () => runAtCursor(SERVER_COMMANDS.optimize, "optimize"));
  register("kernelwright.showHistoryAtCursor", () => showHistoryAtCursor());
  register("kernelwright.cancelOptimize", async () => {
    if (optimizing.size === 0) {
      void vscode.window.showInformationMessage("kernelwright: no optimize is running.");
      return;
    }
    for (const site of optimizing.values()) {
      await vscode.commands.executeCommand(SERVER_COMMANDS.cancel, site);
    }
  });
  register("kernelwright.acceptResult", () => review.accept());
  register("kernelwright.rejectResult", () => review.reject());
  register("kernelwright.restartServer", () => server.restart());
  register("kernelwright.openLog", () => { channel.show(); });
  register("kernelwright.setApiKey", async () => {
    const provider = await pickProvider("Which provider's API key?", keyedProvider(config().get("provider")));
    if (provider === undefined) {
      return;
    }
    const key = await vscode.window.showInputBox({
      title: `kernelwright: ${provider} API key`,
      prompt: `Stored in VS Code's secret storage and given to the server only as ${KEY_VARIABLES[provider]}.`,
      password: true,
      ignoreFocusOut: true,
      validateInput: validateKey,
    });
    if (key === undefined) {
      return;
    }
    await keys.set(provider, key);
    log.info(`an API key for ${provider} was stored; restarting the server to use it`);
    await server.restart();
    void vscode.window.showInformationMessage(`kernelwright: the ${provider} API key is stored; the server was restarted to use it.`);
  });
  register("kernelwright.clearApiKey", async () => {
    const provider = await pickProvider("Clear which provider's API key?", keyedProvider(config().get("provider")));
    if (provider === undefined) {
      return;
    }
    const had = await keys.clear(provider);
    if (had) {
      await server.restart();
    }
    void vscode.window.showInformationMessage(
      had ? `kernelwright: the ${provider} API key was removed; the server was restarted without it.` : `kernelwright: no ${provider} API key was stored.`,
    );
  });

  context.subscriptions.push(
    channel,
    status,
    history,
    review,
    server,
    vscode.workspace.onDidChangeConfiguration((change) => {
      if (needsRestart((section) => change.affectsConfiguration(section))) {
        server.scheduleRestart("a setting read at start-up changed");
      } else if (change.affectsConfiguration("kernelwright")) {
        server.settingsChanged();
      }
      if (change.affectsConfiguration("kernelwright.device")) {
        status.update({ device: config().get<string>("device") ?? "auto", measuredOn: undefined });
      }
    }),
  );
  if (python !== undefined) {
    context.subscriptions.push(python.onDidChange(() => { server.scheduleRestart("the Python extension's interpreter changed"); }));
  }
  await server.start();
}

async function pickProvider(title: string, current: KeyedProvider | undefined): Promise<KeyedProvider | undefined> {
  if (current !== undefined) {
    return current;
  }
  const picked = await vscode.window.showQuickPick(
    KEYED_PROVIDERS.map((p) => ({ label: p, description: KEY_VARIABLES[p] })),
    { title: `kernelwright: ${title}` },
  );
  return picked !== undefined ? keyedProvider(picked.label) : undefined;
}

export function deactivate(): void {
  // The ServerManager stops the server through context.subscriptions.
}
