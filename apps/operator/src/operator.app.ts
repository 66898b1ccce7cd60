import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { KubeConfig } from '@kubernetes/client-node';
import { NestPinoLogger, type Logger } from '@lattice/logging';
import { RpcClient, SubjectNamespace, connectNats, natsCredentials } from '@lattice/messaging';
import { ContextSigner } from '@lattice/request-context';
import {
  HealthRegistry,
  MetricsRegistry,
  RuntimeModule,
  SystemClock,
  defineService,
  type Clock,
} from '@lattice/service-runtime';
import { LeaderElector } from './controller/leader-elector';
import { OperatorMetrics } from './controller/operator.metrics';
import { PolicyController } from './controller/policy.controller';
import { PolicyReconciler } from './controller/policy.reconciler';
import { ScaleInDrainer } from './drain/scale-in-drainer';
import { SchedulerDrains } from './drain/scheduler-drains';
import { KubeGateway } from './kube/kube.gateway';
import { TargetScales } from './kube/target-scales';
import { GpuServiceSource, PrometheusGpuSource } from './metrics/gpu.source';
import { MetricReader } from './metrics/metric-reader';
import { QueueSource } from './metrics/queue.source';
import { SchedulerQueueSource } from './metrics/scheduler-queue.source';
import { operatorConfigSpec, type OperatorConfig } from './operator.config';

export interface OperatorOptions {
  /** Defaults to KUBECONFIG, the in-cluster service account, or ~/.kube/config. */
  kubeConfig?: KubeConfig;
  clock?: Clock;
  /** How often to try to take or renew the lease (default: a fifth of its duration). */
  leaseRetryPeriodMs?: number;
}

export interface Operator {
  app: INestApplication;
  elector: LeaderElector;
  controller: PolicyController;
  reconciler: PolicyReconciler;
  /** Steps down (releasing the lease), stops watching, closes connections. */
  close(): Promise<void>;
  /** Stops like a killed process, leaving the lease to expire (for handover tests). */
  halt(): Promise<void>;
}

/**
 * The scaling operator: a ScalingPolicy informer, a reconciler that acts only while this
 * replica holds the leader Lease, and an HTTP listener for /livez, /readyz and /metrics.
 */
export async function createOperator(
  config: OperatorConfig,
  logger: Logger,
  options: OperatorOptions = {},
): Promise<Operator> {
  const kubeConfig = options.kubeConfig ?? defaultKubeConfig();
  const clock = options.clock ?? new SystemClock();
  const signer = ContextSigner.fromConfig('operator', config);
  const nats = await connectNats(config.NATS_URL, 'lattice-operator', natsCredentials(config));
  const ns = new SubjectNamespace(config.LATTICE_NAMESPACE);
  const rpc = new RpcClient(nats, signer, ns);

  @Module({
    imports: [
      RuntimeModule.forRoot({
        service: 'operator',
        nats,
        logger,
        namespace: config.LATTICE_NAMESPACE,
        signer,
      }),
    ],
  })
  class OperatorAppModule {}

  const app = await NestFactory.create<NestFastifyApplication>(
    OperatorAppModule,
    new FastifyAdapter(),
    {
      logger: new NestPinoLogger(logger),
    },
  );
  const metrics = new OperatorMetrics(app.get(MetricsRegistry).registry);
  const kube = new KubeGateway(kubeConfig);
  const reader = new MetricReader(
    kube,
    new QueueSource(nats, ns),
    new GpuServiceSource(rpc),
    new PrometheusGpuSource(config.OPERATOR_PROMETHEUS_URLS),
    new SchedulerQueueSource(rpc),
  );
  const drainer = new ScaleInDrainer(kube, new SchedulerDrains(rpc), logger);
  const scales = new TargetScales(kubeConfig, kube, logger, config.OPERATOR_WATCH_NAMESPACE);
  const reconciler = new PolicyReconciler(
    kube,
    scales,
    reader,
    drainer,
    metrics,
    logger,
    clock,
    config.OPERATOR_IDENTITY,
  );
  const controller = new PolicyController(
    kubeConfig,
    kube,
    reconciler,
    logger,
    config.OPERATOR_WATCH_NAMESPACE,
    metrics,
  );
  const elector = new LeaderElector(
    kube,
    {
      namespace: config.OPERATOR_LEASE_NAMESPACE,
      name: config.OPERATOR_LEASE_NAME,
      identity: config.OPERATOR_IDENTITY,
      leaseDurationSeconds: config.OPERATOR_LEASE_DURATION_SECONDS,
      retryPeriodMs:
        options.leaseRetryPeriodMs ?? (config.OPERATOR_LEASE_DURATION_SECONDS * 1000) / 5,
    },
    clock,
    logger,
    (leading) => {
      metrics.leader.set(leading ? 1 : 0);
      controller.setLeading(leading);
    },
  );
  app.get(HealthRegistry).register('kubernetes', async () => {
    if (!controller.isSynced) throw new Error('ScalingPolicy watch not established');
  });

  await controller.start();
  elector.start();
  await app.listen(config.OPERATOR_HTTP_PORT, config.LATTICE_BIND_HOST);

  let closing: Promise<void> | undefined;
  const shutdown = (release: boolean) =>
    (closing ??= (async () => {
      await elector.stop({ release });
      await controller.stop();
      await scales.stop();
      await app.close();
    })());
  return {
    app,
    elector,
    controller,
    reconciler,
    close: () => shutdown(true),
    halt: () => shutdown(false),
  };
}

/** Stopping it steps down first (`close`), so the other replica takes the lease at once. */
export const operatorService = defineService({
  name: 'operator',
  config: operatorConfigSpec,
  create: (config, logger) => createOperator(config, logger),
  started: (config) => ({ port: config.OPERATOR_HTTP_PORT, identity: config.OPERATOR_IDENTITY }),
});

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}
