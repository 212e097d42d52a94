// Waits until the server under test answers /healthz (nothing else waits for the port).
export default async function globalSetup() {
  const base = process.env.HEARTH_URL ?? 'http://127.0.0.1:3000';
  const deadline = Date.now() + 60_000;
  let last;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) return;
      last = `status ${r.status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Hearth did not answer at ${base}/healthz within 60 s (${last})`);
}
