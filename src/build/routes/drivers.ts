import type { ScanRoute } from '../plan.js';
import { dockerArchiveRoute } from './docker-archive-route.js';
import { engineRoute } from './engine-route.js';
import { ociLayoutRoute } from './oci-layout-route.js';
import type { ScanRouteDriver } from './route-driver.js';

const DRIVERS = { engine: engineRoute, 'docker-archive': dockerArchiveRoute, 'oci-layout': ociLayoutRoute } as const;

/** The driver of a scan route. */
export function routeDriver(route: ScanRoute): ScanRouteDriver {
  // Each driver only ever sees the images it built itself (the pipeline keeps one route per run).
  return DRIVERS[route.kind];
}
