/**
 * The sidebar's sections, as paths relative to the workspace URL (`/o/:org/w/:ws/`).
 * Sections not yet `available` route to a "Coming soon" page.
 */
export interface NavSection {
  path: string;
  label: string;
  summary: string;
  available: boolean;
}

export const NAV_SECTIONS: readonly NavSection[] = [
  {
    path: '',
    label: 'Dashboard',
    summary: 'Run counts, failures and late runs across your workspace at a glance.',
    available: true,
  },
  {
    path: 'flow-runs',
    label: 'Flow runs',
    summary: 'Every run of every flow, with its state history and logs.',
    available: true,
  },
  {
    path: 'background-tasks',
    label: 'Background tasks',
    summary: 'Task runs queued with .delay() and the task workers running them.',
    available: true,
  },
  {
    path: 'deployments',
    label: 'Deployments',
    summary: 'Your deployments, their schedules and parameters.',
    available: true,
  },
  {
    path: 'work-pools',
    label: 'Work pools',
    summary: 'Where runs execute: pools, queues and the agents polling them.',
    available: true,
  },
  {
    path: 'variables',
    label: 'Variables',
    summary: 'Named values your flows read at run time.',
    available: true,
  },
  {
    path: 'concurrency',
    label: 'Concurrency',
    summary: 'Global limits on how many runs or tasks hold a slot at once.',
    available: true,
  },
  {
    path: 'blocks',
    label: 'Blocks',
    summary: 'Stored configuration and credentials your flows use.',
    available: true,
  },
  {
    path: 'automations',
    label: 'Automations',
    summary: 'Triggers and actions that react to events and run states.',
    available: true,
  },
  {
    path: 'events',
    label: 'Events',
    summary: 'The event feed emitted by runs, workers and the API.',
    available: true,
  },
  {
    path: 'settings',
    label: 'Settings',
    summary: 'Members, invitations, service accounts, API keys and the audit log.',
    available: true,
  },
  {
    path: 'instance',
    label: 'Instance',
    summary: 'Version, mode and health of this Tether instance.',
    available: true,
  },
];
