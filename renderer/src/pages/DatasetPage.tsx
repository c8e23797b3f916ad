import { lazy, Suspense } from 'react';
import { ActionIcon, Alert, Badge, Button, Center, CopyButton, Group, Loader, SimpleGrid, Stack, Text, Title, Tooltip } from '@mantine/core';
import type { DatasetDetail } from '../../../electron/shared/contract';
import { useSpotter } from '../state/react';
import { selectDetail, selectDetailError, selectDetailStatus } from '../state/dataset';
import { HealthReportView } from '../components/HealthReportView';
import { SplitTable } from '../components/SplitTable';
import { LeakAuditView, SourceSplitAuditView } from '../components/LeakAuditView';
import { Licenses } from '../components/Licenses';
import { MappingView } from '../components/MappingView';
import { GroupingPreview } from '../components/GroupingPreview';
import { ImageGrid } from '../components/ImageGrid';
import { EvalSetsView } from '../components/EvalSetsView';
import { TestSpentAlert } from '../components/train/TestSpentAlert';
import { IconAlert, IconCheck, IconCopy } from '../components/icons';
import { formatCount, plural } from '../lib/paths';
import { Section } from '../components/Section';

// ECharts is the largest dependency: load it with the first dataset page, not at start-up.
const ClassChart = lazy(() => import('../components/ClassChart').then((m) => ({ default: m.ClassChart })));

export function DatasetPage() {
  const detail = useSpotter(selectDetail);
  const status = useSpotter(selectDetailStatus);
  const error = useSpotter(selectDetailError);
  if (status === 'error' || (error && !detail)) {
    return (
      <Alert color="red" icon={<IconAlert />} title="Could not open the dataset" data-testid="dataset-error">
        <Text size="sm" style={{ wordBreak: 'break-word' }}>
          {error}
        </Text>
      </Alert>
    );
  }
  if (!detail) {
    return (
      <Center h="50vh">
        <Loader />
      </Center>
    );
  }
  return <DatasetView detail={detail} />;
}

function DatasetView({ detail }: { detail: DatasetDetail }) {
  const { report, health, mapping } = detail;
  const error = useSpotter(selectDetailError);
  const images = Object.values(report.splits).reduce((n, s) => n + (s?.images ?? 0), 0);
  return (
    <Stack gap="md" maw={1400} data-testid="dataset-page">
      <Header detail={detail} images={images} />
      {error && (
        <Alert color="red" variant="light" icon={<IconAlert />}>
          {error}
        </Alert>
      )}
      <TestSpentAlert dataset={detail.dataYaml} />
      <HealthReportView health={health} />
      <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="md">
        <Section title="Instances per class and split">
          <Suspense fallback={<Loader size="sm" />}>
            <ClassChart report={report} />
          </Suspense>
        </Section>
        <Stack gap="md">
          <Section
            title="Splits"
            right={
              <Text size="xs" c="dimmed">
                {report.split_mode === 'keep'
                  ? "the export's own splits"
                  : `ratios ${report.ratios.join(' / ')} · seed ${report.seed}`}
              </Text>
            }
          >
            <SplitTable report={report} />
            <LeakAuditView audit={report.leak_audit} />
            {report.source_split_audit && <SourceSplitAuditView audit={report.source_split_audit} />}
          </Section>
          <Licenses licenses={report.licenses} />
        </Stack>
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="md">
        <Section title="Class mapping">
          <MappingView mapping={mapping} />
        </Section>
        <GroupingPreview grouping={report.grouping} title="Grouping" />
      </SimpleGrid>
      <Section title="Evaluation sets">
        <EvalSetsView sets={detail.evalSets} />
      </Section>
      <Section title="Images">
        <ImageGrid />
      </Section>
    </Stack>
  );
}

function Header({ detail, images }: { detail: DatasetDetail; images: number }) {
  const { report } = detail;
  const openWizard = useSpotter((s) => s.openWizard);
  return (
    <Stack gap={4}>
      <Group gap="sm" align="center">
        <Title order={2} data-testid="dataset-name">
          {report.name}
        </Title>
        <Badge variant="light">{report.task}</Badge>
        <Badge variant="light" color="gray">
          {formatCount(images)} images
        </Badge>
        <Badge variant="light" color="gray">
          {plural(report.names.length, 'class', 'classes')}
        </Badge>
        <Text size="xs" c="dimmed">
          {[...new Set(report.sources.map((s) => s.format))].join(' + ')} · {new Date(report.created_at).toLocaleString()} · Spotter{' '}
          {report.spotter_version}
        </Text>
        <Button size="xs" ml="auto" onClick={() => openWizard({ dataset: detail.dir, overrideHealth: false }, 0)} data-testid="train-on-dataset">
          Train on this dataset…
        </Button>
      </Group>
      <Text size="sm" c="dimmed" className="mono" data-testid="dataset-dir">
        {detail.dir}
      </Text>
      <Group gap={6} wrap="nowrap">
        <Text size="sm" fw={500}>
          data.yaml
        </Text>
        <Text size="sm" className="mono" data-testid="data-yaml">
          {detail.dataYaml}
        </Text>
        <CopyButton value={detail.dataYaml} timeout={1500}>
          {({ copied, copy }) => (
            <Tooltip label={copied ? 'Copied' : 'Copy path'} withArrow>
              <ActionIcon variant="subtle" color={copied ? 'teal' : 'gray'} onClick={copy} aria-label="copy data.yaml path">
                {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
              </ActionIcon>
            </Tooltip>
          )}
        </CopyButton>
      </Group>
      <Text size="sm">
        <Text span c="dimmed">
          Classes:{' '}
        </Text>
        {report.names.map((n, i) => `${i} ${n}`).join(', ')}
      </Text>
    </Stack>
  );
}
