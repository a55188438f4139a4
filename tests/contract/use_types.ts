// A web client's typed calls on the TypeScript types generated from Peacemap's OpenAPI
// document (openapi-typescript, into ./generated/schema.d.ts). `tsc --noEmit`-strict
// checks the calls against the document; node runs them: node use_types.js BASE_URL.
import type { components, paths } from "./generated/schema";

declare const process: { argv: string[]; exit(code: number): never };

type ActorList =
  paths["/api/v1/actors"]["get"]["responses"][200]["content"]["application/json"];
type SignIn = components["schemas"]["SignIn"];
type IssuedToken = components["schemas"]["IssuedToken"];
type Proposal = NonNullable<
  paths["/api/v1/contributions"]["post"]["requestBody"]
>["content"]["application/json"];
type Contribution = components["schemas"]["Contribution"];
type Comparison = components["schemas"]["Comparison"];

async function call<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  if (!response.ok) {
    throw new Error(`${init?.method ?? "GET"} ${url}: ${response.status} ${await response.text()}`);
  }
  return (await response.json()) as T;
}

async function main(base: string): Promise<void> {
  const list = await call<ActorList>(`${base}/api/v1/actors?country=SL&limit=5`);
  if (!list.items || list.items.length === 0) throw new Error("no actors in Sierra Leone");
  const names: string[] = list.items.map((actor) => actor.name ?? "");

  const credentials: SignIn = {
    email: "contributor@demo.peacemap.example",
    password: "peacemap-demo-password",
  };
  const token = await call<IssuedToken>(`${base}/api/v1/auth/sign-in`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(credentials),
  });

  const proposal: Proposal = {
    kind: "new_observation",
    payload: {
      text: "Neighbours are rebuilding houses in cement near the market.",
      language: "en",
      themes: ["investment"],
      observed_on: "2026-01-15",
      location: { type: "Point", coordinates: [-11.74, 7.96] },
    },
  };
  const contribution = await call<Contribution>(`${base}/api/v1/contributions`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token.token}` },
    body: JSON.stringify(proposal),
  });
  if (contribution.state !== "submitted") throw new Error(`state ${contribution.state}`);

  const comparison = await call<Comparison>(`${base}/api/v1/reports/comparison?country=SL`);
  const projects: number = comparison.projects?.length ?? 0;
  console.log(`ok ${names.length} actors, contribution ${contribution.id}, ${projects} projects`);
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
