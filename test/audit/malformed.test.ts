// Malformed registry answers: a manifest of `null`, a `layers: [null]`, an index `manifests: [null]`,
// a tag-list page that is not JSON. Each is a named EicBuildError (never a TypeError): the tag is
// unreadable and the rest of the audit goes on. The registry is real (docker-registry on loopback);
// the malformed bodies come from a front, as a real registry refuses to store them.
import test from 'ava';
import type { ServerResponse } from 'node:http';
import type { AuditReport } from '../../src/audit/index.js';
import { memoryIo } from '../../src/cli-io.js';
import { main } from '../../src/cli.js';
import { EicBuildError } from '../../src/errors.js';
import { RegistryClient } from '../../src/registry/index.js';
import { readRegistryImages } from '../../src/scan/registry-source.js';
import { requestPath, startFront } from '../helpers/http-fronts.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushWorld } from './registry-world.js';

const REPO = 'eic/malformed';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const MALFORMED: Record<string, unknown> = {
  'null-body': null,
  'null-layer': {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: DIGEST, size: 2 },
    layers: [null],
  },
  'null-entry': { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [null] },
  'string-config': { schemaVersion: 2, config: 'sha256:x', layers: [] },
  'size-text': { schemaVersion: 2, config: { digest: DIGEST, size: 2 }, layers: [{ digest: DIGEST, size: '12' }] },
};

let registry: TestRegistry;

test.before(async () => {
  registry = await startRegistry();
  await pushWorld(new RegistryClient({ registry: registry.host }), REPO, [{ tag: 'fine', image: { layers: [{ files: { 'etc/fine': 'ok\n' } }] } }]);
});

test.after.always(async () => {
  await registry?.stop();
});

const serve = (res: ServerResponse, type: string, body: string) => res.writeHead(200, { 'content-type': type }).end(body);

function malformedFront(tagListBody?: string) {
  return startFront(registry.url, {
    intercept: (req, res) => {
      const path = requestPath(req);
      if (path.endsWith('/tags/list')) {
        serve(res, 'application/json', tagListBody ?? JSON.stringify({ name: REPO, tags: ['fine', ...Object.keys(MALFORMED)] }));
        return true;
      }
      const tag = /\/manifests\/([^/]+)$/.exec(path)?.[1];
      if (tag !== undefined && tag in MALFORMED) {
        serve(res, 'application/vnd.oci.image.manifest.v1+json', JSON.stringify(MALFORMED[tag]));
        return true;
      }
      return false;
    },
  });
}

test('[integration] readRegistryImages: a null manifest, a null layer or index entry, a wrong field type are input-corrupt errors naming the manifest', async (t) => {
  const front = await malformedFront();
  try {
    const client = new RegistryClient({ registry: front.host });
    const expectations: Record<string, RegExp> = {
      'null-body': /@sha256:[0-9a-f]{64}: the manifest is not a JSON object/,
      'null-layer': /layer 0 of 127\.0\.0\.1:\d+\/eic\/malformed@sha256:[0-9a-f]{64}: is null, not a descriptor object/,
      'null-entry': /entry 0 of index 127\.0\.0\.1:\d+\/eic\/malformed@sha256:[0-9a-f]{64}: is null/,
      'string-config': /config of .*: is a string, not a descriptor object/,
      'size-text': /layer 0 of .*: has a size that is not a non-negative integer/,
    };
    for (const [tag, message] of Object.entries(expectations)) {
      const error = await t.throwsAsync(readRegistryImages(client, REPO, tag), { instanceOf: EicBuildError }, tag);
      t.is(error?.code, 'input-corrupt', tag);
      t.regex(error?.message ?? '', message, tag);
    }
  } finally {
    front.close();
  }
});

test('[integration] audit: each malformed tag is unreadable with its reason (exit 2), the fine tag is still audited', async (t) => {
  const front = await malformedFront();
  try {
    const io = memoryIo({});
    t.is(await main(['audit', `docker://${front.host}/${REPO}`, '--format', 'json', '--progress', 'quiet'], io), 2, io.stderr);
    const report = JSON.parse(io.stdout) as AuditReport;
    const status = Object.fromEntries(report.tags.map((tag) => [tag.tag, tag.status]));
    t.deepEqual(status, {
      fine: 'clean',
      'null-body': 'unreadable',
      'null-layer': 'unreadable',
      'null-entry': 'unreadable',
      'size-text': 'unreadable',
      'string-config': 'unreadable',
    });
    for (const tag of report.tags.filter((verdict) => verdict.tag !== 'fine')) t.regex(tag.unreadable.join(' '), /@sha256:[0-9a-f]{64}/, tag.tag);
  } finally {
    front.close();
  }
});

test('[integration] a tag-list page that is not JSON, or lists no names: exit 2 naming the page, not a SyntaxError', async (t) => {
  for (const body of ['<html>maintenance</html>', '{"tags":[1,2]}']) {
    const front = await malformedFront(body);
    try {
      const io = memoryIo({});
      t.is(await main(['audit', `docker://${front.host}/${REPO}`, '--progress', 'quiet'], io), 2, body);
      t.regex(io.stderr, /the tag list page http:\/\/127\.0\.0\.1:\d+\/v2\/eic\/malformed\/tags\/list\?n=\d+ (is not JSON|has no list of tag names)/, body);
      t.notRegex(io.stderr, /SyntaxError|TypeError/);
      t.is(io.stdout, '');
    } finally {
      front.close();
    }
  }
});
