/** The sidebar's sections. Sections not yet `available` route to a "Coming soon" page. */
export interface NavSection {
  path: string;
  label: string;
  summary: string;
  available: boolean;
}

export const NAV_SECTIONS: readonly NavSection[] = [
  {
    path: '/',
    label: 'Overview',
    summary: 'Version, mode and health of this Tether instance.',
    available: true,
  },
  {
    path: '/dashboard',
    label: 'Dashboard',
    summary: 'Run counts, failures and late runs across your workspace at a glance.',
    available: false,
  },
  {
    path: '/flow-runs',
    label: 'Flow runs',
    summary: 'Every run of every flow, with its state history and logs.',
    available: false,
  },
  {
    path: '/flows',
    label: 'Flows & deployments',
    summary: 'Your flows, their deployments, schedules and parameters.',
    available: false,
  },
  {
    path: '/work-pools',
    label: 'Work pools',
    summary: 'Where runs execute: pools, queues and the workers polling them.',
    available: false,
  },
  {
    path: '/blocks',
    label: 'Blocks',
    summary: 'Stored configuration and credentials your flows use.',
    available: false,
  },
  {
    path: '/automations',
    label: 'Automations',
    summary: 'Triggers and actions that react to events and run states.',
    available: false,
  },
  {
    path: '/events',
    label: 'Events',
    summary: 'The event feed emitted by runs, workers and the API.',
    available: false,
  },
  {
    path: '/settings',
    label: 'Settings',
    summary: 'Workspace members, API keys and preferences.',
    available: false,
  },
];
