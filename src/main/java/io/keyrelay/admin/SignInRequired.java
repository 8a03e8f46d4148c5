package io.keyrelay.admin;

/** Thrown by a console handler when there is no valid session: the response is a redirect to the sign-in page. */
final class SignInRequired extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why the visitor lands on the sign-in page ({@code null}: they simply have not signed in). */
    private final String notice;

    SignInRequired(String notice) {
        super(notice, null, false, false);
        this.notice = notice;
    }

    String notice() {
        return notice;
    }
}
