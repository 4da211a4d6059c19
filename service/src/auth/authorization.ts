import type { Action, PrincipalRule } from '../config/config.ts';
import type { TargetTag } from '../domain/target.ts';
import { canonicalPattern, wildcardMatcher } from './principal.ts';

/**
 * Decides what an identified principal may do. Rules are additive (allow-only): a principal
 * may do what any rule matching it allows; no rule means nothing is allowed.
 */
export interface Authorizer {
  /** May this principal do this action at all (on some target, for deploy)? */
  allows(principal: string, action: Action): boolean;
  /** May this principal deploy to (or stop managing certificates on) this target? */
  allowsTarget(principal: string, target: TargetTag): boolean;
  /**
   * May this principal set install options (directories, owner, group, key mode, reload) for
   * this target? They decide what runs as root on the servers: a permission of its own.
   */
  allowsInstallOptions(principal: string, target: TargetTag): boolean;
  /**
   * May this principal deploy to every target, whatever its key and value? Only a deploy rule
   * whose targets include `*=*` says so: a sweep of every mapping (`POST /v1/reconcile`) reaches
   * targets no narrower rule names, including ones created after the rule was written.
   */
  allowsEveryTarget(principal: string): boolean;
}

interface CompiledRule {
  readonly principal: (arn: string) => boolean;
  readonly actions: ReadonlySet<Action>;
  readonly targets: readonly ((target: TargetTag) => boolean)[];
  /** A target pattern matches every key and value: `*=*` (or `**=*`…). */
  readonly everyTarget: boolean;
}

/** `*` alone (or several) on both sides of the `=`. */
function matchesEveryTarget(pattern: string): boolean {
  return /^\*+=\*+$/.test(pattern);
}

/** `key=value`, split at the first `=`; `*` is a wildcard in both parts. */
function targetMatcher(pattern: string): (target: TargetTag) => boolean {
  const at = pattern.indexOf('=');
  const key = wildcardMatcher(pattern.slice(0, at));
  const value = wildcardMatcher(pattern.slice(at + 1));
  return (target) => key(target.key) && value(target.value);
}

/**
 * Compiles the configured rules once. Throws PrincipalPatternError for patterns that cannot be
 * enforced (see `canonicalPattern`), so a bad rule stops the service at start, not at a request.
 */
export function compileRules(rules: readonly PrincipalRule[]): Authorizer {
  const compiled: CompiledRule[] = rules.map((rule) => ({
    principal: wildcardMatcher(canonicalPattern(rule.principal)),
    actions: new Set(rule.actions),
    targets: rule.targets.map(targetMatcher),
    everyTarget: rule.targets.some(matchesEveryTarget),
  }));
  const matching = (principal: string) => compiled.filter((rule) => rule.principal(principal));
  return {
    allows: (principal, action) => matching(principal).some((rule) => rule.actions.has(action)),
    allowsTarget: (principal, target) =>
      matching(principal).some(
        (rule) => rule.actions.has('deploy') && rule.targets.some((matches) => matches(target)),
      ),
    allowsInstallOptions: (principal, target) =>
      matching(principal).some(
        (rule) =>
          rule.actions.has('install-options') && rule.targets.some((matches) => matches(target)),
      ),
    allowsEveryTarget: (principal) =>
      matching(principal).some((rule) => rule.actions.has('deploy') && rule.everyTarget),
  };
}

/** AUTH_MODE=none: every request is allowed (local development only). */
export const allowEverything: Authorizer = {
  allows: () => true,
  allowsTarget: () => true,
  allowsInstallOptions: () => true,
  allowsEveryTarget: () => true,
};
