/**
 * The account's own routes under /me: a copy of the data, the device list, the privacy consent,
 * and deletion with its cooling-off period (use-cases in wechat-core's auth/lifecycle.ts).
 */
import {
  type AuthDeps,
  type SessionContext,
  cancelDeletion,
  endOtherSessions,
  endSession,
  exportAccount,
  listSessions,
  recordConsent,
  requestDeletion,
} from '@wxlogin/wechat-core';
import type { FastifyInstance, FastifyRequest, RouteShorthandOptions } from 'fastify';

export interface AccountRouteOptions {
  /** The request's session (checked once per request). */
  authenticate: (request: FastifyRequest) => Promise<SessionContext>;
  /** The per-user budget of each account operation. */
  userLimit: RouteShorthandOptions;
  deletionDays: number;
}

export function registerAccountRoutes(
  app: FastifyInstance,
  deps: AuthDeps,
  options: AccountRouteOptions,
): void {
  const { authenticate, userLimit } = options;

  // A download: the browser or wx.downloadFile saves it; it is never cached on the way.
  app.get('/me/export', userLimit, async (request, reply) => {
    const data = await exportAccount(await authenticate(request), deps);
    const day = data.exportedAt.slice(0, 10);
    return reply
      .header('content-disposition', `attachment; filename="wxlogin-export-${day}.json"`)
      .send(data);
  });

  // Every session ends, this one too: the client logs in again to see or cancel the deletion.
  app.delete('/me', userLimit, async (request, reply) => {
    const deletion = await requestDeletion(await authenticate(request), deps, {
      days: options.deletionDays,
    });
    return reply.code(202).send(deletion);
  });

  app.post('/me/deletion/cancel', userLimit, async (request) =>
    cancelDeletion(await authenticate(request), deps),
  );

  app.get('/me/sessions', async (request) => listSessions(await authenticate(request), deps));

  // 退出其他设备 in one request: one spend of the account limit, however many devices.
  app.post('/me/sessions/end-others', userLimit, async (request) =>
    endOtherSessions(await authenticate(request), deps),
  );

  app.delete('/me/sessions/:id', userLimit, async (request, reply) => {
    const { id } = request.params as { id: string };
    await endSession(await authenticate(request), id, deps);
    return reply.code(204).send();
  });

  app.post('/me/consent', userLimit, async (request) =>
    recordConsent(request.body, await authenticate(request), deps),
  );
}
