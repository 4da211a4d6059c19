/** The result of one readiness check: one entry per dependency (e.g. `queue`, `deployments`). */
export interface Readiness {
  readonly ok: boolean;
  /** Per dependency; `message` is for logs only and is never sent to unauthenticated callers. */
  readonly details: Readonly<Record<string, { readonly ok: boolean; readonly message?: string }>>;
}

/**
 * Whether the dependencies the API needs are reachable (queue and tables), for `/readyz`.
 * `check` should be cheap (one small call per dependency) and must not throw: a dependency
 * that fails is reported with `ok: false`.
 */
export interface ReadinessProbe {
  check(): Promise<Readiness>;
}
