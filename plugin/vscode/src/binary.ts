// Where the errand binary is.
import * as fs from "fs";
import * as path from "path";

/** The binary: the setting, then PATH, then the workspace's own build. */
export function findBinary(setting: string, pathEnv: string, folders: string[]): string | undefined {
  if (setting) return isExecutable(setting) ? setting : undefined;
  for (const dir of pathEnv.split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, "errand"))) return path.join(dir, "errand");
  }
  for (const folder of folders) {
    for (const build of ["release", "debug"]) {
      const p = path.join(folder, "target", build, "errand");
      if (isExecutable(p)) return p;
    }
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
