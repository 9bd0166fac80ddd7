import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { isPasswordResetKeyValid, resetPassword } from '../../api/auth';
import { Button } from '../../components/Button';
import { Field, FormMessage } from '../../components/Field';
import { PageHeader } from '../../components/PageHeader';
import { Spinner } from '../../components/Spinner';

export default function PasswordResetKeyPage() {
  const { key = '' } = useParams();
  const valid = useQuery({ queryKey: ['password-reset-key', key], queryFn: () => isPasswordResetKeyValid(key) });
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      const outcome = await resetPassword(key, password);
      if (outcome.kind === 'error') setError(outcome.fieldErrors['password'] ?? outcome.message);
      else setDone(true);
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : 'The reset failed.');
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <PageHeader title="Choose a new password" />
      {valid.isPending && <Spinner label="Checking the link…" />}
      {valid.data === false && (
        <FormMessage tone="error">
          This reset link is invalid or has expired. <Link to="/account/password/reset">Ask for a new one</Link>.
        </FormMessage>
      )}
      {done && (
        <FormMessage tone="info">
          Your password is changed. <Link to="/account/login">Sign in</Link> with it.
        </FormMessage>
      )}
      {valid.data === true && !done && (
        <form className="form" onSubmit={(event) => void submit(event)}>
          <Field
            label="New password"
            type="password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            autoComplete="new-password"
            minLength={10}
            required
            error={error || undefined}
          />
          <Button type="submit" variant="primary" disabled={busy}>
            Set password
          </Button>
        </form>
      )}
    </>
  );
}
