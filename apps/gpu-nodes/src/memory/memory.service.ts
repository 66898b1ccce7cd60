import { Injectable } from '@nestjs/common';
import type { GpuMemoryQuery, GpuMemoryReply } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import type { RequestContext } from '@lattice/request-context';
import { gpuAccess } from '../gpu-access';
import { NodeRepository } from '../registry/node.repository';

/**
 * The VRAM of the GPUs serving a workload, for the operator's `gpuMemory` metric. A GPU serves
 * a workload when its node says it serves a model through that workload (`serves[].workload`),
 * or when a lease on it names the workload as its holder (`holder`). Lost GPUs and GPUs never
 * read are left out: their figures are not to be trusted.
 */
@Injectable()
export class MemoryService {
  constructor(
    private readonly scope: TenantScope,
    private readonly nodes: NodeRepository,
  ) {}

  async query(ctx: RequestContext, query: GpuMemoryQuery): Promise<GpuMemoryReply> {
    gpuAccess.fleet(ctx, 'read');
    const gpus = await this.scope.runForDispatch((em) =>
      this.nodes.gpusOfWorkload(em, {
        namespace: query.namespace,
        kind: query.kind,
        name: query.workload,
      }),
    );
    return {
      gpus: gpus.map((g) => ({
        node: g.node,
        uuid: g.uuid,
        model: g.model,
        usedMiB: g.usedMiB,
        freeMiB: g.freeMiB,
        sampledAt: g.sampledAt!.toISOString(),
      })),
    };
  }
}
