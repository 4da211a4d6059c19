import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Authorizer } from '../auth/authorization.ts';
import type { ApiDependencies } from './dependencies.ts';

/** The Fastify instance with TypeBox type inference for route schemas. */
export type ApiApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What route modules receive. */
export interface RouteContext {
  readonly deps: ApiDependencies;
  readonly authorizer: Authorizer;
}

/** Security requirement of authenticated routes in the OpenAPI document. */
export const authenticated = [{ AcmCertExport: [] }];
