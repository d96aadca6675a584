// Types for the undici files src/upstream/upstream.ts imports one by one: the same objects undici's
// index exports (index.js: `Agent`, `interceptors.retry`, and `request` once bound to a dispatcher).
declare module "undici/lib/dispatcher/agent.js" {
  import type { Agent } from "undici";
  const AgentClass: typeof Agent;
  export default AgentClass;
}
declare module "undici/lib/interceptor/retry.js" {
  import type { interceptors } from "undici";
  const retry: typeof interceptors.retry;
  export default retry;
}
declare module "undici/lib/api/api-request.js" {
  import type { Dispatcher } from "undici";
  /** Dispatcher.prototype.request, unbound: called with the dispatcher as `this`. */
  function request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
  export default request;
}
