// Promise.withResolvers (ES2024, Node 22+), which PostGraphile 5.1 uses, for Node 20:
// loaded before anything else with `node --require ./polyfill.cjs server.mjs`.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
