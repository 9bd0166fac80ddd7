import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Button } from '../../components/Button';
import { CopyButton } from '../../components/CopyButton';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field, FormMessage } from '../../components/Field';
import { Spinner } from '../../components/Spinner';
import { useMe } from '../../workspace/queries';
import { useWorkspaceRef } from '../../workspace/workspace';
import { canIssueWorkerKeys, defaultAccountName, issueWorkerKey, type IssuedWorkerKey } from './workerKey';

interface WorkerKeySectionProps {
  poolName: string;
  issued: IssuedWorkerKey | null;
  onIssued: (issued: IssuedWorkerKey | null) => void;
}

/**
 * Creates the agent's key. The secret lives in the panel's state only (the install commands
 * show it too) and is gone once dismissed or the panel closes: no later request returns it.
 */
export function WorkerKeySection({ poolName, issued, onIssued }: WorkerKeySectionProps) {
  const ref = useWorkspaceRef();
  const me = useMe();
  const queryClient = useQueryClient();
  const [accountName, setAccountName] = useState(() => defaultAccountName(poolName));
  const issue = useMutation({
    mutationFn: () => issueWorkerKey(ref, accountName, poolName),
    onSuccess: async (result) => {
      onIssued(result);
      await queryClient.invalidateQueries({ queryKey: ['service-accounts', ref.org] });
    },
  });

  if (me.isPending) return <Spinner label="Checking your role…" />;
  if (!canIssueWorkerKeys(me.data, ref.org)) {
    return (
      <FormMessage tone="info">
        Only organisation owners and admins can create service accounts and their keys. Ask one for a worker-role
        service-account key, then put it in <code>TETHER_API_KEY</code> below.
      </FormMessage>
    );
  }

  if (issued) {
    return (
      <section className="secret" aria-label="New worker key">
        <FormMessage tone="info">
          This is the only time the key is shown: copy it now (it is also in the commands below). It belongs to the
          service account <strong>{issued.account.name}</strong>
          {issued.createdAccount ? ', created with the worker role.' : ', reused.'}
        </FormMessage>
        <p className="inline">
          <code className="secret__value" data-testid="worker-key-secret">
            {issued.key.secret}
          </code>
          <CopyButton text={issued.key.secret} label="Copy key" />
          <Button
            onClick={() => {
              issue.reset();
              onIssued(null);
            }}
          >
            Hide key
          </Button>
        </p>
      </section>
    );
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    issue.mutate();
  }

  return (
    <>
      <form className="form form--inline" onSubmit={submit} aria-label="Create worker key">
        <Field
          label="Service account"
          value={accountName}
          onChange={(e) => setAccountName(e.target.value)}
          maxLength={100}
          required
          hint="Created with the worker role in this workspace; an existing account of this name is reused."
        />
        <Button type="submit" variant="primary" disabled={issue.isPending}>
          Create worker key
        </Button>
      </form>
      {issue.isError && <ErrorNotice title="Could not create the worker key" error={issue.error} />}
    </>
  );
}
