/**
 * `geofailover --version`: the package version and, when known, the git commit it was built from — recorded
 * in dist/build-info.json by the build, or asked of the clone's own git when run from the sources.
 */
import { codeVersion, type CodeVersion } from '../audit/code-version';

export { BUILD_INFO_FILE } from '../audit/code-version';

export type BuildInfo = CodeVersion;

/** The version, and the commit from the build (or, with `git`, from the clone's git). */
export function buildInfo(options: { git?: boolean } = {}): BuildInfo {
  return codeVersion({ git: options.git === true });
}

/** `0.2.0 (commit 0123456789ab)`, or `0.2.0` when the commit is not known. */
export function versionText(info: BuildInfo): string {
  return info.commit ? `${info.version} (commit ${info.commit})` : info.version;
}
