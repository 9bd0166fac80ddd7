import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { signup } from '../../api/auth';
import { Button } from '../../components/Button';
import { Field, FormMessage } from '../../components/Field';
import { PageHeader } from '../../components/PageHeader';

export default function SignupPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState('');
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFormError('');
    try {
      const outcome = await signup(email.trim(), password);
      if (outcome.kind === 'error') {
        setErrors(outcome.fieldErrors);
        if (Object.keys(outcome.fieldErrors).length === 0) setFormError(outcome.message);
      } else {
        // Taken addresses answer the same as new ones (no enumeration): always "check your inbox".
        setSent(true);
      }
    } catch (error) {
      setFormError(error instanceof Error ? error.message : 'Sign-up failed.');
    } finally {
      setBusy(false);
    }
  }

  if (sent) {
    return (
      <>
        <PageHeader title="Check your inbox" />
        <p>
          We sent a verification link to <strong>{email}</strong>. Open it to finish creating your account.
        </p>
      </>
    );
  }

  return (
    <>
      <PageHeader title="Create your account" />
      <form className="form" onSubmit={(event) => void submit(event)}>
        <Field
          label="Email"
          type="email"
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          autoComplete="email"
          required
          error={errors['email']}
        />
        <Field
          label="Password"
          type="password"
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          autoComplete="new-password"
          minLength={10}
          required
          hint="At least 10 characters, not a common password."
          error={errors['password']}
        />
        {formError && <FormMessage tone="error">{formError}</FormMessage>}
        <Button type="submit" variant="primary" disabled={busy}>
          Sign up
        </Button>
      </form>
      <p className="form-links">
        Already have an account? <Link to="/account/login">Sign in</Link>
      </p>
    </>
  );
}
