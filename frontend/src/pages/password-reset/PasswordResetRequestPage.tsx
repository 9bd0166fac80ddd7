import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { requestPasswordReset } from '../../api/auth';
import { Button } from '../../components/Button';
import { Field, FormMessage } from '../../components/Field';
import { PageHeader } from '../../components/PageHeader';

export default function PasswordResetRequestPage() {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      const outcome = await requestPasswordReset(email.trim());
      if (outcome.kind === 'error') setError(outcome.message);
      else setSent(true);
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : 'The request failed.');
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <PageHeader title="Reset your password" />
      {sent ? (
        <FormMessage tone="info">If an account uses {email}, a reset link is on its way to it.</FormMessage>
      ) : (
        <form className="form" onSubmit={(event) => void submit(event)}>
          <Field
            label="Email"
            type="email"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            autoComplete="email"
            required
          />
          {error && <FormMessage tone="error">{error}</FormMessage>}
          <Button type="submit" variant="primary" disabled={busy}>
            Send reset link
          </Button>
        </form>
      )}
      <p className="form-links">
        <Link to="/account/login">Back to sign in</Link>
      </p>
    </>
  );
}
