import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { authenticateSecondFactor, login, type AuthOutcome } from '../../api/auth';
import { Button } from '../../components/Button';
import { Field, FormMessage } from '../../components/Field';
import { PageHeader } from '../../components/PageHeader';
import { refreshSession } from '../../session/session';

/** Only paths on this site: `?next=https://evil.example` must not become a redirect. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

type Step = 'password' | 'totp';

export default function LoginPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [step, setStep] = useState<Step>('password');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [message, setMessage] = useState<{ tone: 'error' | 'info'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function handle(outcome: AuthOutcome) {
    switch (outcome.kind) {
      case 'signed-in':
        // The server rotated the CSRF cookie; the client reads it again on every request.
        await refreshSession(queryClient);
        await navigate(safeNext(params.get('next')), { replace: true });
        return;
      case 'pending':
        if (outcome.flow === 'mfa_authenticate') {
          setStep('totp');
          setMessage(null);
        } else if (outcome.flow === 'verify_email') {
          setMessage({ tone: 'info', text: 'Please verify your email address: we sent you a link.' });
        } else {
          setMessage({ tone: 'error', text: `Sign-in needs a step this page does not support (${outcome.flow}).` });
        }
        return;
      case 'error':
        setMessage({ tone: 'error', text: outcome.message });
        return;
      case 'signed-out':
        setMessage({ tone: 'error', text: 'Sign-in did not complete. Please try again.' });
    }
  }

  async function submit(event: FormEvent, action: () => Promise<AuthOutcome>) {
    event.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      await handle(await action());
    } catch (error) {
      setMessage({ tone: 'error', text: error instanceof Error ? error.message : 'Sign-in failed.' });
    } finally {
      setBusy(false);
    }
  }

  if (step === 'totp') {
    return (
      <>
        <PageHeader title="Two-factor authentication">Enter the code from your authenticator app.</PageHeader>
        <form className="form" onSubmit={(event) => void submit(event, () => authenticateSecondFactor(code.trim()))}>
          <Field
            label="Authentication code"
            name="code"
            value={code}
            onChange={(event) => setCode(event.target.value)}
            autoComplete="one-time-code"
            inputMode="numeric"
            required
            autoFocus
            hint="A 6-digit code, or one of your recovery codes."
          />
          {message && <FormMessage tone={message.tone}>{message.text}</FormMessage>}
          <Button type="submit" variant="primary" disabled={busy}>
            Verify
          </Button>
        </form>
      </>
    );
  }

  return (
    <>
      <PageHeader title="Sign in" />
      <form className="form" onSubmit={(event) => void submit(event, () => login(email.trim(), password))}>
        <Field
          label="Email"
          type="email"
          name="email"
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          autoComplete="email"
          required
        />
        <Field
          label="Password"
          type="password"
          name="password"
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          autoComplete="current-password"
          required
        />
        {message && <FormMessage tone={message.tone}>{message.text}</FormMessage>}
        <Button type="submit" variant="primary" disabled={busy}>
          Sign in
        </Button>
      </form>
      <p className="form-links">
        <Link to="/account/password/reset">Forgot your password?</Link> · <Link to="/account/signup">Create an account</Link>
      </p>
    </>
  );
}
