import { assert, describe, it } from "@effect/vitest"
import * as Journal from "../src/Journal.js"

const request = (n: number, fields: Partial<Journal.Recorded> = {}): Journal.Recorded => ({
  at: Date.UTC(2026, 0, 1) + n,
  method: "POST",
  path: `/cgi-bin/component/api_${n % 2 === 0 ? "even" : "odd"}`,
  endpoint: `api_${n % 2 === 0 ? "even" : "odd"}`,
  query: {},
  body: { n },
  status: 200,
  errcode: n % 3 === 0 ? 40001 : undefined,
  fault: undefined,
  ...fields
})

describe("Journal", () => {
  it("keeps exactly the newest `limit` entries, oldest first, however many times the ring wraps", () => {
    const journal = Journal.make(7)
    for (let n = 1; n <= 7 * 13 + 3; n++) {
      journal.record(request(n))
      const entries = journal.query()
      const expected = Array.from({ length: Math.min(n, 7) }, (_, i) => n - Math.min(n, 7) + 1 + i)
      assert.deepStrictEqual(entries.map((e) => e.id), expected)
      assert.deepStrictEqual(entries.map((e) => (e.body as { n: number }).n), expected)
    }
  })

  it("filters and limits the entries it holds, in order", () => {
    const journal = Journal.make(10)
    for (let n = 1; n <= 25; n++) journal.record(request(n))
    assert.deepStrictEqual(journal.query({ endpoint: "api_even" }).map((e) => e.id), [16, 18, 20, 22, 24])
    assert.deepStrictEqual(journal.query({ errcode: 40001 }).map((e) => e.id), [18, 21, 24])
    assert.deepStrictEqual(journal.query({ endpoint: "api_odd", limit: 2 }).map((e) => e.id), [23, 25])
  })

  it("numbers on after a clear", () => {
    const journal = Journal.make(3)
    for (let n = 1; n <= 5; n++) journal.record(request(n))
    journal.clear()
    assert.deepStrictEqual(journal.query(), [])
    journal.record(request(6))
    assert.deepStrictEqual(journal.query().map((e) => e.id), [6])
  })

  it("shows an entry masked and dated, and leaves what was recorded as it was", () => {
    const journal = Journal.make(1)
    const query = { component_access_token: "TOKEN" }
    const body = { component_appid: "wx1", component_appsecret: "SECRET" }
    journal.record(request(0, { query, body, errcode: undefined }))
    const [entry] = journal.query()
    assert.deepStrictEqual(entry, {
      id: 1,
      time: "2026-01-01T00:00:00.000Z",
      method: "POST",
      path: "/cgi-bin/component/api_even",
      endpoint: "api_even",
      query: { component_access_token: "***" },
      body: { component_appid: "wx1", component_appsecret: "***" },
      status: 200
    })
    assert.strictEqual(query.component_access_token, "TOKEN")
    assert.strictEqual(body.component_appsecret, "SECRET")
  })

  it("shows errcode and fault only when there is one", () => {
    const journal = Journal.make(2)
    journal.record(request(1, { errcode: 45009, fault: "errcode" }))
    journal.record(request(2, { errcode: undefined, fault: undefined }))
    const [faulted, plain] = journal.query()
    assert.deepStrictEqual([faulted!.errcode, faulted!.fault], [45009, "errcode"])
    assert.deepStrictEqual(["errcode" in plain!, "fault" in plain!], [false, false])
  })
})
